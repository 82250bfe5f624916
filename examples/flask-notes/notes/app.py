"""HTTP views of Flask Notes. INTENTIONALLY VULNERABLE, for scanner demos only."""
import base64
import os
import pickle
import random
import secrets

from flask import Flask, abort, jsonify, render_template_string, request, send_from_directory

from notes import db

app = Flask(__name__)
app.secret_key = os.environ.get("NOTES_SECRET", "dev")
ATTACHMENTS = "/srv/notes/attachments"


@app.route("/search")
def search():
    term = request.args.get("q", "")
    # VULNERABLE: SQL injection inside db.search_notes (taint crosses modules).
    rows = db.search_notes(term)
    # VULNERABLE: the term is rendered as template source (SSTI / XSS).
    return render_template_string("<h1>Results for " + term + "</h1><p>{{ n }} notes</p>", n=len(rows))


@app.route("/notes/<int:note_id>")
def show(note_id):
    # Safe: parameterised query, auto-escaped template with the value passed as data.
    note = db.get_note(note_id)
    if note is None:
        abort(404)
    return render_template_string("<h1>{{ title }}</h1>", title=note[1])


@app.route("/export", methods=["POST"])
def export():
    fmt = request.form["format"]
    # VULNERABLE: command injection through a shell command line.
    os.system("notes-export --format " + fmt + " > /tmp/export.out")
    return jsonify(status="queued")


@app.route("/import", methods=["POST"])
def import_notes():
    # VULNERABLE: unpickling data from the request runs attacker code.
    notes = pickle.loads(base64.b64decode(request.form["blob"]))
    return jsonify(imported=len(notes))


@app.route("/attachments")
def attachment():
    name = request.args["name"]
    # VULNERABLE: path traversal (?name=../../etc/passwd).
    with open(os.path.join(ATTACHMENTS, name), "rb") as fh:
        data = fh.read()
    return app.response_class(data, mimetype="application/octet-stream")


@app.route("/attachments/safe")
def attachment_safe():
    # Safe: send_from_directory refuses paths that leave the folder.
    return send_from_directory(ATTACHMENTS, request.args["name"])


@app.route("/share", methods=["POST"])
def share():
    # VULNERABLE: share links use a predictable generator.
    token = "%016x" % random.getrandbits(64)
    resp = jsonify(link="/s/" + token)
    # VULNERABLE: the owner cookie is set without Secure, so it also travels over plain HTTP.
    resp.set_cookie("share_owner", secrets.token_hex(16))
    return resp


@app.route("/login", methods=["POST"])
def login():
    # Safe: unguessable token, cookie marked Secure and HttpOnly.
    resp = jsonify(ok=True)
    resp.set_cookie("sid", secrets.token_urlsafe(32), secure=True, httponly=True, samesite="Lax")
    return resp
