"""The Streamlit dashboard: app.py + pages/, each page calls index/ functions."""
