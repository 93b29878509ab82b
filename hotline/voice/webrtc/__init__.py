"""The desk's softphone: WebRTC peers (aiortc) bridged into the gateway's B2BUA.

``frames`` adapts a peer's audio to the bridge's 20 ms 8 kHz frames; ``peers`` keeps one
peer connection per registered desk and rings, answers and hangs up its legs.
"""
