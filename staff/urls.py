from django.urls import path

from staff import views

app_name = "staff"

urlpatterns = [
    path("sign-in/", views.sign_in, name="login"),
    path("two-factor/", views.verify, name="verify"),
    path("two-factor/setup/", views.setup, name="setup"),
    path("confirm/", views.confirm, name="confirm"),
    path("sign-out/", views.sign_out, name="logout"),
]
