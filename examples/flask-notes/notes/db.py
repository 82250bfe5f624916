"""SQLite storage for notes."""
import sqlite3

DB_PATH = "notes.db"


def connect():
    return sqlite3.connect(DB_PATH)


def search_notes(term):
    """VULNERABLE: the search term is formatted into the SQL text (SQL injection)."""
    conn = connect()
    try:
        cur = conn.cursor()
        cur.execute("SELECT id, title FROM notes WHERE title LIKE '%" + term + "%'")
        return cur.fetchall()
    finally:
        conn.close()


def get_note(note_id):
    """Safe: the id is passed as a query parameter."""
    conn = connect()
    try:
        cur = conn.cursor()
        cur.execute("SELECT id, title, body FROM notes WHERE id = ?", (note_id,))
        return cur.fetchone()
    finally:
        conn.close()
