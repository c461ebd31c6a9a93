from django.urls import path

from webhooks import views

app_name = "webhooks"

urlpatterns = [
    # National staff only (webhooks.add_endpoint).
    path("manage/webhooks/", views.EndpointListView.as_view(), name="endpoint-list"),
    path("manage/webhooks/<int:pk>/pause/", views.EndpointPauseView.as_view(), name="endpoint-pause"),
    path("manage/webhooks/<int:pk>/resume/", views.EndpointResumeView.as_view(), name="endpoint-resume"),
    path("manage/webhooks/<int:pk>/rotate/", views.EndpointRotateView.as_view(), name="endpoint-rotate"),
    path("manage/webhooks/<int:pk>/test/", views.EndpointTestView.as_view(), name="endpoint-test"),
    path("manage/webhooks/<int:pk>/delete/", views.EndpointDeleteView.as_view(), name="endpoint-delete"),
    path("manage/webhooks/<int:pk>/deliveries/", views.DeliveryListView.as_view(), name="delivery-list"),
    path(
        "manage/webhooks/<int:pk>/deliveries/<int:delivery_pk>/send-again/",
        views.DeliverySendAgainView.as_view(),
        name="delivery-send-again",
    ),
]
