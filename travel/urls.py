from django.urls import path

from travel import views

app_name = "travel"

urlpatterns = [
    path("", views.guide, name="guide"),
]
