from playwright.sync_api import Page, expect


def test_home_page_offers_the_catalog_search(page: Page) -> None:
    page.goto("/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Show what you can do")
    expect(page.get_by_label("Find a micro-credential")).to_be_visible()
