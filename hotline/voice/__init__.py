"""Voice: the SIP and RTP core of the hotline's telephone gateway.

Sans-I/O (h11 / aioice style): every protocol module takes bytes and a monotonic `now`
and returns events and bytes; only the two `udp` modules touch asyncio and sockets.

    sip/message.py      RFC 3261 parser and serialiser (ParseError on anything malformed)
    sip/transaction.py  RFC 3261 17 transactions with timers A-M, Via/rport routing
    sip/useragent.py    UAS core: dialogs, INVITE/ACK/BYE/CANCEL/OPTIONS, re-INVITE hold,
                        2xx retransmission, 400/405/415/420/481/486/488/491/501
    sip/auth.py         digest authentication (client side, for trunks)
    sip/registration.py REGISTER to a trunk: challenges, refresh, retry
    sip/udp.py          asyncio DatagramProtocol around UserAgent
    sdp.py              RFC 4566 parsing, RFC 3264 answerer (PCMU, PCMA, telephone-event)
    media/g711.py       µ-law / A-law tables, bit-exact with the ITU reference
    media/rtp.py        RFC 3550 packets, sequence-number arithmetic
    media/dtmf.py       RFC 4733 receiver (each key press once) and event packets
    media/stream.py     RtpSender: audio and DTMF on one RTP timeline
    media/pacer.py      drift-free 20 ms schedule from a monotonic clock
    media/clock.py      MediaClock: one 20 ms tick per loop for every stream and bridge
    media/recorder.py   jitter-tolerant, crash-safe 8 kHz 16-bit WAV recorder (written
                        once a second by one writer thread)
    media/session.py    one call's media: latching, digits, recording, paced prompts, hold
    media/udp.py        asyncio DatagramProtocol around MediaSession, sent on the clock

The IVR and the gateway process on top of the core:

    ivr/flow.py         the call flow as data (YAML/JSON), validated at load (FlowError)
    ivr/engine.py       FlowRun: the flow engine, sans-I/O (events in, actions out)
    ivr/default_flow.yaml  the seed's 12345 menu (SPEC section 2)
    prompts.py          pluggable TTS (espeak-ng + sox, or tones), cached WAVs, digit reading
    services.py         the IVR's calls into the platform (orders, contacts, knowledge)
    gateway.py          VoiceGateway: SIP + RTP + one FlowRun per call in one asyncio loop
    server.py           the process: `manage.py voice_gateway` / `python -m hotline.voice.server`
    webrtc/peers.py     the desks' softphones: one aiortc peer per registered desk, rung as a leg
    webrtc/frames.py    a peer as a bridge leg: 8 kHz frames in (resampled), the mix out (paced)

The core alone is wired like this: `open_sip_endpoint(host, port, on_event)`; on
`IncomingCall` open an RTP endpoint and `answer(call_id, rtp_port)`; on
`CallEstablished` attach a `MediaSession(event.media, ...)`; on `MediaChanged` call
`session.update(event.media)`; on `CallEnded` close the RTP endpoint and the recorder.
"""
