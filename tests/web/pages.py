"""Helpers shared by the page tests (not a test module)."""
import re

CSRF_INPUT = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def csrf_token(client, path: str = "/") -> str:
    """The CSRF token rendered for this client's session (every page carries one)."""
    match = CSRF_INPUT.search(client.get(path).get_data(as_text=True))
    assert match, f"no csrf_token on {path}"
    return match.group(1)


def field_error(html: str, field_id: str) -> str | None:
    """The error message rendered right after the field, or None when the field is fine."""
    match = re.search(rf'<input[^>]*\bid="{field_id}"[^>]*>\s*(?:<label[^>]*>[^<]*</label>\s*)?'
                      r'<div class="invalid-feedback">([^<]*)</div>', html)
    if match and "is-invalid" in match.group(0):
        return match.group(1)
    return None
