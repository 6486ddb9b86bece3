"""The provider API's session endpoints (on the verification API's blueprint)."""
