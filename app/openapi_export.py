"""Print the app's OpenAPI document (`make openapi` writes it to openapi/openapi.json)."""

import json

from app.main import create_app

if __name__ == "__main__":
    print(json.dumps(create_app().openapi(), indent=2, sort_keys=True))
