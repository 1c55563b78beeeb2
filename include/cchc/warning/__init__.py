"""Early warning of dossiers at risk of ending late: its honest measurement (`cchc warn`)."""
