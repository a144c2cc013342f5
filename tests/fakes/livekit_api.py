"""A local stand-in for a LiveKit server's API, for the real `livekit-api` SDK to talk to.

The SDK speaks Twirp with binary protobuf (`Content-Type: application/protobuf`,
POST /twirp/livekit.RoomService/<Method>), a bearer JWT signed with the API secret carrying the
grant the method needs; errors are Twirp's JSON (`{"code", "msg"}`). The fake checks the token
as LiveKit does (TokenVerifier, then the grant), keeps rooms by name (CreateRoom answers the
existing room for a known name, as LiveKit does) and their participants, and records each call.
`webhook` signs an event the way the server signs its webhooks."""

import base64
import hashlib
import threading
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from google.protobuf.json_format import MessageToJson
from livekit import api

from tests.processes import free_port

ROOM_SERVICE = "/twirp/livekit.RoomService/"


@dataclass
class FakeLiveKit:
    api_key: str
    api_secret: str
    port: int = 0
    rooms: dict = field(default_factory=dict)  # name → api.Room
    participants: dict = field(default_factory=dict)  # room name → {identity: api.ParticipantInfo}
    calls: list = field(default_factory=list)  # (method, request message)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def join(self, room: str, identity: str) -> api.ParticipantInfo:
        """A participant connected to `room` (with a token: the fake does not check it)."""
        info = api.ParticipantInfo(sid=f"PA_{uuid.uuid4().hex[:12]}", identity=identity)
        with self.lock:
            self.participants.setdefault(room, {})[identity] = info
        return info

    def methods(self) -> list[str]:
        return [method for method, _ in self.calls]

    def webhook(self, event: api.WebhookEvent, *, secret: str | None = None) -> tuple[str, str]:
        """The body and Authorization header LiveKit sends for `event` (signed with `secret`,
        by default the API secret)."""
        body = MessageToJson(event)
        digest = base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()
        token = api.AccessToken(self.api_key, secret or self.api_secret).with_sha256(digest).to_jwt()
        return body, token

    # Methods: (request class, the grant checked, handler)
    def _create_room(self, request: api.CreateRoomRequest):
        with self.lock:
            room = self.rooms.get(request.name)
            if room is None:
                room = api.Room(
                    sid=f"RM_{uuid.uuid4().hex[:12]}",
                    name=request.name,
                    empty_timeout=request.empty_timeout,
                    metadata=request.metadata,
                )
                self.rooms[request.name] = room
        return room

    def _list_rooms(self, request: api.ListRoomsRequest):
        with self.lock:
            rooms = [room for name, room in self.rooms.items() if not request.names or name in request.names]
        return api.ListRoomsResponse(rooms=rooms)

    def _delete_room(self, request: api.DeleteRoomRequest):
        with self.lock:
            if self.rooms.pop(request.room, None) is None:
                raise _NotFound("room not found")
            self.participants.pop(request.room, None)
        return api.DeleteRoomResponse()

    def _remove_participant(self, request: api.RoomParticipantIdentity):
        with self.lock:
            if self.participants.get(request.room, {}).pop(request.identity, None) is None:
                raise _NotFound("participant not found")
        return api.RemoveParticipantResponse()

    def _list_participants(self, request: api.ListParticipantsRequest):
        with self.lock:
            people = list(self.participants.get(request.room, {}).values())
        return api.ListParticipantsResponse(participants=people)


class _NotFound(Exception):
    pass


def _room_admin(grants, request) -> bool:
    return bool(grants.room_admin) and grants.room == request.room


METHODS = {
    "CreateRoom": (api.CreateRoomRequest, lambda grants, request: bool(grants.room_create), "_create_room"),
    "ListRooms": (api.ListRoomsRequest, lambda grants, request: bool(grants.room_list), "_list_rooms"),
    "DeleteRoom": (api.DeleteRoomRequest, lambda grants, request: bool(grants.room_create), "_delete_room"),
    "RemoveParticipant": (api.RoomParticipantIdentity, _room_admin, "_remove_participant"),
    "ListParticipants": (api.ListParticipantsRequest, _room_admin, "_list_participants"),
}


class _Handler(BaseHTTPRequestHandler):
    fake: FakeLiveKit

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        method = self.path.removeprefix(ROOM_SERVICE) if self.path.startswith(ROOM_SERVICE) else ""
        if method not in METHODS:
            return self._error(404, "bad_route", f"no handler for {self.path}")
        if self.headers.get("Content-Type") != "application/protobuf":
            return self._error(400, "malformed", "the fake speaks binary protobuf, as the SDK does")
        request_class, allowed, handler = METHODS[method]
        try:
            claims = api.TokenVerifier(self.fake.api_key, self.fake.api_secret).verify(
                self.headers.get("Authorization", "").removeprefix("Bearer ")
            )
        except Exception:
            return self._error(401, "unauthenticated", "invalid token")
        request = request_class.FromString(body)
        if not allowed(claims.video, request):
            return self._error(403, "permission_denied", "the token lacks the grant")
        self.fake.calls.append((method, request))
        try:
            answer = getattr(self.fake, handler)(request).SerializeToString()
        except _NotFound as missing:
            return self._error(404, "not_found", str(missing))
        self.send_response(200)
        self.send_header("Content-Type", "application/protobuf")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def _error(self, status: int, code: str, message: str):
        answer = f'{{"code": "{code}", "msg": "{message}"}}'.encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *args):
        pass


def serve(fake: FakeLiveKit) -> ThreadingHTTPServer:
    """Start `fake` on 127.0.0.1 (its `port`, or a free one); the caller shuts the server down."""
    handler = type("Handler", (_Handler,), {"fake": fake})
    server = ThreadingHTTPServer(("127.0.0.1", fake.port or free_port()), handler)
    fake.port = server.server_port
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server
