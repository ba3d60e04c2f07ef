"""Where an alert goes besides the in-app inbox: email (SMTP) and webhooks (generic signed JSON or Slack).

Each channel sends one message and either returns or raises ChannelError with the reason; retrying is
the delivery's job. TLS is verified everywhere; the SMTP password comes from SMTP_PASSWORD and each
webhook's signing secret from its own environment variable.
"""

from __future__ import annotations

import json
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import make_msgid
from urllib.parse import quote

import httpx

from alerts.settings import EmailChannel, WebhookChannel
from alerts.wording import alert_message, words
from core.documents import Alert
from core.errors import EcouteError
from core.outbound import RefusedAddressError, guarded_client
from core.signing import signed_headers


class ChannelError(EcouteError):
    """One attempt to send failed; the reason is recorded on the delivery."""


@dataclass(frozen=True)
class Links:
    """Where the dashboard shows an alert's mention, its customer and its rule."""

    mention: str
    customer: str | None
    rule: str
    original: str | None


def links_for(alert: Alert, dashboard_url: str) -> Links:
    base = dashboard_url.rstrip("/")
    return Links(
        mention=f"{base}/alerts?alert={quote(alert.id)}",
        customer=f"{base}/customers?customer={quote(alert.customer_id)}" if alert.customer_id else None,
        rule=f"{base}/alerts?rule={quote(alert.rule)}",
        original=alert.url,
    )


def alert_payload(alert: Alert, links: Links) -> dict:
    """The generic webhook's JSON body."""
    return {
        "type": "ecoute.alert",
        "alert": alert.model_dump(mode="json", exclude={"details"})
        | {"explanation": alert.details.get("explanation", [])},
        "links": {
            "mention": links.mention,
            "customer": links.customer,
            "rule": links.rule,
            "original": links.original,
        },
    }


def slack_payload(text: str) -> dict:
    """A Slack-compatible incoming-webhook body: plain `text` plus one section block (mrkdwn escaped)."""
    return {
        "text": text,
        "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": _slack_escape(text)}}],
    }


def _slack_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def send_email(
    config: EmailChannel,
    password: str | None,
    recipient: str,
    subject: str,
    body: str,
    reference: str = "",
) -> None:
    """Send one plain-text message by SMTP: STARTTLS or TLS with certificate checks, unless `none`."""
    message = EmailMessage()
    message["From"] = config.sender
    message["To"] = recipient
    message["Subject"] = subject
    message["Message-ID"] = make_msgid(domain="ecoute.local")
    if reference:
        message["X-Ecoute-Alert"] = reference
    message.set_content(body)
    context = ssl.create_default_context(cafile=str(config.ca_certs) if config.ca_certs else None)
    try:
        if config.security == "tls":
            smtp: smtplib.SMTP = smtplib.SMTP_SSL(
                config.host, config.port, timeout=config.timeout_seconds, context=context
            )
        else:
            smtp = smtplib.SMTP(config.host, config.port, timeout=config.timeout_seconds)
        with smtp:
            if config.security == "starttls":
                smtp.starttls(context=context)
            if config.username and password:
                smtp.login(config.username, password)
            smtp.send_message(message)
    except (smtplib.SMTPException, OSError) as exc:
        raise ChannelError(f"email to {recipient} via {config.host}:{config.port}: {_reason(exc)}") from exc


def webhook_client(config: WebhookChannel) -> httpx.Client:
    """A client for this webhook's URL through the outbound address guard (`local: true` lifts it)."""
    return guarded_client(allow_local=config.local, verify=config.verify_tls, timeout=config.timeout_seconds)


def send_webhook(
    config: WebhookChannel,
    alert: Alert,
    links: Links,
    client: httpx.Client | None = None,
    delivery_id: str = "",
    text: str | None = None,
) -> None:
    """POST one alert; the generic format must be HMAC-signed. Any 2xx is success.

    `text` is the message a chat (Slack) format shows; by default the alert's message in English.

    `client`, when given, must come from `webhook_client` for this webhook (it holds the address guard).

    `X-Ecoute-Delivery` is the same on every retry of one delivery: a receiver can drop a repeat.
    """
    if config.format == "slack":
        payload = slack_payload(
            text if text is not None else alert_message(alert, alert.summary, links, words("en"))
        )
    else:
        payload = alert_payload(alert, links)
    body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "ecoute-alerts",
        "X-Ecoute-Delivery": delivery_id,
    }
    secret = config.secret()
    if secret is not None:
        headers |= signed_headers(secret.get_secret_value(), body)
    elif config.format == "generic":
        raise ChannelError(f"webhook {config.name}: no signing secret in ${config.secret_env}")
    try:
        if client is None:
            with webhook_client(config) as own:
                response = own.post(config.url, content=body, headers=headers)
        else:
            response = client.post(config.url, content=body, headers=headers, timeout=config.timeout_seconds)
    except RefusedAddressError as exc:
        raise ChannelError(f"webhook {config.name}: {exc.reason}") from None
    except httpx.HTTPError as exc:
        raise ChannelError(f"webhook {config.name}: {_reason(exc)}") from exc
    if not response.is_success:
        raise ChannelError(f"webhook {config.name}: HTTP {response.status_code} {response.text[:200]!r}")


def _reason(exc: Exception) -> str:
    text = str(exc) or type(exc).__name__
    return " ".join(text.split())[:300]
