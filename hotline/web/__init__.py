"""Page infrastructure shared by every face: the content security policy, the error pages and
the small scripts every page loads (hotline/web/static/web/)."""
