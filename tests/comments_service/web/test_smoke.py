"""A first end-to-end pass: post, read, reply, edit, delete."""


def test_post_then_read_thread(actions, urls):
    body = actions.comment("Bonjour *confrère*", url=urls.POST_B, author="Marie")
    assert body["status"] == "approved"  # dr-b's policy is "none"
    assert body["comment"]["html"] == "<p>Bonjour <em>confrère</em></p>"
    thread = actions.thread(urls.POST_B).get_json()
    assert thread["total"] == 1
    assert thread["comments"][0]["author"]["name"] == "Marie"
