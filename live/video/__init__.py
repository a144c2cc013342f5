"""The host's video: the provider interface (base), the self-hosted nginx-rtmp provider
(nginx_rtmp) and the real-time adapters (livekit). Services reach a provider only through
`base.provider_for` / `base.default_provider`, never by importing an adapter."""
