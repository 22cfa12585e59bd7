"""Which views land a visit: a referrer on the same site is a click within it."""

from hubtrail.core.attribution import is_internal


def test_a_referrer_on_the_same_site_is_internal() -> None:
    assert is_internal("https://www.shop.example/pricing", "https://www.shop.example/")
    assert is_internal("https://www.shop.example/pricing", "https://blog.shop.example/post")
    assert not is_internal("https://www.shop.example/pricing", "https://www.google.com/")
    assert not is_internal("https://www.shop.example/pricing", "")
