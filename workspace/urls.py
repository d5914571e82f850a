from django.urls import path

from workspace import views

app_name = "workspace"

urlpatterns = [
    path("", views.inbox, name="inbox"),
    path("export.csv", views.export, name="export"),
    path("dashboard/", views.dashboard, name="dashboard"),
    path("<str:reference>/", views.inquiry_detail, name="inquiry"),
    path("<str:reference>/reply/", views.reply, name="reply"),
    path("<str:reference>/note/", views.note, name="note"),
    path("<str:reference>/status/", views.change_status, name="status"),
    path("<str:reference>/assign/", views.assign, name="assign"),
    path("<str:reference>/share/", views.share, name="share"),
    path("<str:reference>/clinics/<uuid:referral_id>/revoke/", views.revoke, name="revoke_referral"),
    path("<str:reference>/clinics/<uuid:referral_id>/publish/", views.publish, name="publish_answer"),
]
