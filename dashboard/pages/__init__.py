"""Dashboard pages, each run as a script by st.navigation in app.py."""
