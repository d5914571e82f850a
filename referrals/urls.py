from django.urls import path

from referrals import views

app_name = "referrals"

urlpatterns = [
    path("clinic-case/<str:token>/", views.case, name="case"),
    path("clinic-case/<str:token>/files/<uuid:attachment_id>/", views.case_file, name="file"),
    # the patient's word on an offer, from the follow-up page
    path(
        "inquiries/follow-up/<str:reference>/<str:token>/offers/<int:answer_id>/",
        views.follow_up_offer,
        name="follow_up_offer",
    ),
]
