# Django's Vietnamese date begins with a capital "Ngày", which reads wrongly inside a sentence
# ("có hiệu lực đến Ngày 30 …"); "30 tháng 11 năm 2029" reads right alone and inside a sentence.
DATE_FORMAT = r"j \t\há\n\g n \nă\m Y"
