from django.urls import path

from inquiries import views

app_name = "inquiries"

urlpatterns = [
    path("new/", views.inquiry_new, name="create"),
    path("thanks/<str:reference>/", views.inquiry_thanks, name="thanks"),
    path("lost-link/", views.lost_link, name="lost_link"),
    path("follow-up/<str:reference>/<str:token>/", views.follow_up, name="follow_up"),
    path("follow-up/<str:reference>/<str:token>/delete/", views.follow_up_delete, name="follow_up_delete"),
    path(
        "follow-up/<str:reference>/<str:token>/files/<uuid:attachment_id>/",
        views.follow_up_attachment,
        name="follow_up_attachment",
    ),
]
