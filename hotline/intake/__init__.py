"""Every inbound message on every channel enters here (``services.do_receive``); one adapter per
channel (web, email, sms, chat, fax, letters, open311, wechat) turns what arrived into an
``InboundMessage`` and tells the sender the outcome on its own channel."""
