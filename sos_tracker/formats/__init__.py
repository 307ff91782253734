"""Date formats per language (settings.FORMAT_MODULE_PATH); Django's own fill the rest.

Templates name the format (`date:"DATE_FORMAT"`), never spell one out, so each language
writes dates its own way.
"""
