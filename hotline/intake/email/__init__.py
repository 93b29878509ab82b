"""The email channel: mail in by SMTP (``server``) or IMAP (``imap``), parsed without Django
(``parse``), delivered into ``do_receive`` (``delivery``); mail out through the relay with a
reply token in Reply-To (``outbound``)."""
