from django.urls import path

from conditions import views

app_name = "conditions"

urlpatterns = [
    path("", views.condition_list, name="list"),
    path("<slug:slug>/", views.condition_detail, name="detail"),
]
