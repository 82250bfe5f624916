"""Flask Notes: a tiny note-taking app. INTENTIONALLY VULNERABLE, for scanner demos only."""
