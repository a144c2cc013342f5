"""Run the self-hosted media server (nginx with its RTMP module) in the foreground, its config
written from the MEDIA_SERVER_* settings into MEDIA_SERVER_DIR (live.video.nginx_rtmp)."""

import os
import shutil

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from live.video import nginx_rtmp


class Command(BaseCommand):
    help = "Write the media server's nginx config and run nginx (RTMP ingest, HLS playback) in the foreground."

    def add_arguments(self, parser):
        parser.add_argument("--check", action="store_true", help="Write the config and test it, then exit.")
        parser.add_argument("--rtmp-port", type=int, help="Instead of MEDIA_SERVER_RTMP_PORT.")

    def handle(self, *args, check=False, rtmp_port=None, **options):
        if rtmp_port:
            settings.MEDIA_SERVER_RTMP_PORT = rtmp_port
        if not nginx_rtmp.installed():
            raise CommandError(
                "The media server needs nginx and its RTMP module: apt-get install nginx libnginx-mod-rtmp"
            )
        path = nginx_rtmp.prepare_directory(settings.MEDIA_SERVER_DIR)
        command = [shutil.which("nginx"), "-p", str(settings.MEDIA_SERVER_DIR), "-c", str(path), "-e", "stderr"]
        if check:
            command.append("-t")
        os.execv(command[0], command)  # nginx takes over the process: signals reach it directly
