"""The flask-sock extension, created bare and bound in the app factory."""

from flask_sock import Sock

sock = Sock()
