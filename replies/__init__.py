"""Replies: post a reply to the platform a mention came from, with that source's own credentials."""
