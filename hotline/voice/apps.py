from django.apps import AppConfig


class VoiceConfig(AppConfig):
    """No models yet: installed for its ``voice_gateway`` management command."""

    name = "hotline.voice"
    label = "voice"
    default_auto_field = "django.db.models.BigAutoField"
