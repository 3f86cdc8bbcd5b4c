app_name = "authoring"
urlpatterns: list = []
