"""(stub in the test checkout)"""

from ninja import Router

router = Router(tags=["surveys"])
