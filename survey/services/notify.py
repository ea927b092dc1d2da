"""Mail: queued in the database within the caller's transaction, delivered later.

Queuing in the same transaction as the change it reports means a mail exists exactly when the
change was committed; a later issue adds the SMTP delivery of queued mail.
"""

from __future__ import annotations

from survey.extensions import db
from survey.models import OutgoingMail

SUBJECT_MAX = 255


def _one_line(text: str) -> str:
    # A line break in a header would let text inject further headers once the mail is sent.
    return " ".join(text.split())


def queue_mail(recipient: str, subject: str, body: str) -> OutgoingMail:
    mail = OutgoingMail(
        recipient=_one_line(recipient),
        subject=_one_line(subject)[:SUBJECT_MAX],
        body=body,
    )
    db.session.add(mail)
    return mail
