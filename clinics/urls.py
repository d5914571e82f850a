from django.urls import path

from clinics import views

app_name = "clinics"

urlpatterns = [
    path("", views.clinic_list, name="list"),
    path("compare/", views.clinic_compare, name="compare"),  # before the clinic pages: not a slug
    path("<slug:slug>/", views.clinic_detail, name="detail"),
    path("<slug:clinic_slug>/doctors/<slug:slug>/", views.doctor_detail, name="doctor"),
]
