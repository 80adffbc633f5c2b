"""Date formats per language (settings.FORMAT_MODULE_PATH): one way to write a date or a time in each language.

Templates write `|date:"SHORT_DATE_FORMAT"` for a day and `|date:"SHORT_DATETIME_FORMAT"` for a moment; a date
rendered bare uses DATE_FORMAT, which is the same.
"""
