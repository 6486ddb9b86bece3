"""The item bank: items as written (``items``), loading them as versions (``services.load_bank``)
and the live bank (``services.current_bank``), the blueprints, and drawing a paper."""
