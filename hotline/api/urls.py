from ninja import NinjaAPI

api = NinjaAPI(title="12345 Hotline API", version="1", urls_namespace="api")
