"""KPIs, recurring problems and the weekly management pack."""
