"""The stand-in platform service: a separate process that plays every platform of a data file.

Run it with ``python manage.py run_mock_platforms --port PORT --data FILE`` (see ``server.py`` and
API.md, "The stand-in platform service"). It keeps its state in memory and never touches the
project's database.
"""
