"""The one place that turns a thread's rows into the tree every reader sees: API, no-JS page, export, snapshot.

Without recursion (a reply chain may be thousands deep: Python's and Jinja's recursion limits broke the thread
at a few hundred levels), with the nesting capped at `depth` levels shown (THREAD_DEPTH, as Isso and Remark42
do): a reply deeper than that is listed, in conversation order, at the deepest level shown, under the same
comment as its ancestor at that level, and carries `in_reply_to` ({"id", "name"}) so that « en réponse à … »
keeps the conversation readable. `parent` stays the real parent in every node.

Pages are made of top-level comments with their replies (`Tree.page`), bounded in comments too: a top-level
thread larger than a page goes on on the next page(s), where its replies come at the top level with
`in_reply_to`. The tree is computed once over ids, and only the page's comments are turned into public dicts.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

DEFAULT_DEPTH = 5  # levels shown; THREAD_DEPTH in the service's configuration
DEFAULT_LIMIT = 50  # top-level comments (with their replies) per page of the API and the no-JS page
PAGE_COMMENTS = 4  # and at most this many comments per top-level comment of `limit` (200 a page by default)


@dataclass
class Tree:
    """The shape of a thread: which comments show, where each sits; public dicts only on demand (`page`)."""

    rows: dict[int, object]  # id -> row, the kept ones (shown or placeholders)
    order: list[int]  # kept ids in reading order: each top-level comment followed by its replies
    roots: list[int]  # kept top-level ids, oldest first
    spans: dict[int, tuple[int, int]]  # root id -> (start, end) of its group in `order`
    counts: dict[int, int]  # root id -> visible comments of its group (placeholders excluded)
    slot: dict[int, int | None]  # id -> the comment it is listed under (None: top level)
    shown: dict[int, bool]  # id -> visible (else a placeholder)
    total: int  # visible comments of the whole thread
    make: Callable  # (row, replies) -> dict of a visible comment
    hole: Callable  # (row, replies) -> dict of a placeholder
    name: Callable  # row -> the name « en réponse à » shows
    load: Callable | None = None  # ids -> {id: full row}, when `rows` hold only the columns of the shape

    def extent(self, offset: int = 0, limit: int | None = None, skip: int = 0,
               most: int | None = None) -> tuple[list[int], tuple[int, int] | None]:
        """(the ids of a page, the (offset, skip) of the next one or None).

        A page is up to `limit` top-level comments from `offset` with their replies, the first one's
        first `skip` comments left out (shown by the page before), and at most `most` comments: a
        top-level thread that does not fit starts the next page, and one larger than a page is cut,
        its replies going on on the next page(s) (`skip`).
        """
        ids: list[int] = []
        index, begun = offset, 0
        while index < len(self.roots) and (limit is None or begun < limit):
            start, end = self.spans[self.roots[index]]
            group = self.order[start + (skip if begun == 0 else 0) : end]
            if most is not None and len(ids) + len(group) > most:
                if ids:
                    return ids, (index, 0)
                return group[:most], (index, (skip if begun == 0 else 0) + most)
            ids.extend(group)
            index, begun = index + 1, begun + 1
        return ids, ((index, 0) if index < len(self.roots) else None)

    def cursors(self, limit: int, most: int) -> list[tuple[int, int]]:
        """The (offset, skip) each page of the thread starts at, in order (the no-JS page's numbers)."""
        found = [(0, 0)]
        while True:
            offset, skip = found[-1]
            following = self.extent(offset, limit, skip, most)[1]
            if following is None:
                return found
            found.append(following)

    def page(self, offset: int = 0, limit: int | None = None, skip: int = 0,
             most: int | None = None) -> tuple[list[dict], int]:
        """(the nested dicts of a page (`extent`), its visible count). A reply whose comment above is on an
        earlier page comes at the top level, with `in_reply_to` to say whom it answers."""
        ids = self.extent(offset, limit, skip, most)[0]
        full = self.load(ids) if self.load is not None else self.rows
        nodes: dict[int, dict] = {}
        out: list[dict] = []
        count = sum(self.shown[cid] for cid in ids)
        for cid in ids:
            node = (self.make if self.shown[cid] else self.hole)(full[cid], [])
            parent = self.rows[cid]["parent_id"]
            slot = self.slot[cid]
            if slot is not None and slot not in nodes:  # continued from the page before
                slot = None
            if slot != parent and parent in self.rows:
                node["in_reply_to"] = {"id": parent, "name": self.name(self.rows[parent]) if self.shown[parent] else None}
            nodes[cid] = node
            (nodes[slot]["replies"] if slot is not None else out).append(node)
        return out, count


def build(
    rows,
    *,
    depth: int = DEFAULT_DEPTH,
    visible: Callable[[object], bool],
    make: Callable,
    hole: Callable,
    name: Callable,
    load: Callable | None = None,
) -> Tree:
    """Shape `rows` (any order) into a Tree; a comment not `visible` stays as a placeholder only when a
    visible reply hangs below it, and goes otherwise. A row whose parent is not among `rows` is top-level."""
    by_id = {row["id"]: row for row in rows}
    children: dict[int | None, list[int]] = {}
    for row in rows:
        parent = row["parent_id"]
        children.setdefault(parent if parent in by_id else None, []).append(row["id"])
    # reading order, depth-first and without recursion: a reply after its parent, siblings oldest first
    order: list[int] = []
    level: dict[int, int] = {}
    stack = [(cid, 1) for cid in reversed(children.get(None, []))]
    while stack:
        cid, lvl = stack.pop()
        order.append(cid)
        level[cid] = lvl
        stack.extend((child, lvl + 1) for child in reversed(children.get(cid, [])))
    shown = {cid: bool(visible(by_id[cid])) for cid in order}
    keep = dict(shown)
    for cid in reversed(order):  # replies come after their parent: a kept reply keeps its ancestors
        parent = by_id[cid]["parent_id"]
        if keep[cid] and parent in keep:
            keep[parent] = True

    kept: list[int] = []
    slot: dict[int, int | None] = {}
    group: dict[int, int] = {}
    spans: dict[int, tuple[int, int]] = {}
    counts: dict[int, int] = {}
    roots: list[int] = []
    for cid in order:
        if not keep[cid]:
            continue
        parent = by_id[cid]["parent_id"]
        if parent not in by_id:
            slot[cid] = None
            group[cid] = cid
            roots.append(cid)
            spans[cid] = (len(kept), len(kept))
            counts[cid] = 0
        else:
            # deeper than `depth`: under the comment its ancestor at the deepest level shown is under
            slot[cid] = slot[parent] if level[cid] > depth else parent
            group[cid] = group[parent]
        kept.append(cid)
        root = group[cid]
        spans[root] = (spans[root][0], len(kept))
        counts[root] += shown[cid]
    return Tree(
        rows={cid: by_id[cid] for cid in kept},
        order=kept,
        roots=roots,
        spans=spans,
        counts=counts,
        slot=slot,
        shown=shown,
        total=sum(counts.values()),
        make=make,
        hole=hole,
        name=name,
        load=load,
    )


def events(nodes: list[dict]) -> Iterator[tuple[str, dict | None]]:
    """A nested tree as a flat stream for templates, without recursion: ("open", node) starts a comment's
    <li>, ("down", None) opens its replies' list, ("up", None) closes it, ("close", node) ends the <li>."""
    stack: list[tuple[dict | None, list[dict], int]] = [(None, nodes, 0)]
    while stack:
        owner, items, i = stack.pop()
        if i < len(items):
            node = items[i]
            stack.append((owner, items, i + 1))
            yield "open", node
            replies = node.get("replies") or []
            if replies:
                yield "down", None
                stack.append((node, replies, 0))
            else:
                yield "close", node
        elif owner is not None:
            yield "up", None
            yield "close", owner
