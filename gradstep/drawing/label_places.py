"""Where the gradient labels of a graph's edges go, so that no two of them overlap (pure).

Each label first takes its own place (``edge_geometry.edge_label_box``: beside the middle
of its edge; outside a fan, ``fan_side``). Where that place meets a label that comes
before it (the edges by their middles, top to bottom, then left to right) or a node's box
(its edge's source or target, or a node its edge passes: a diamond's ``[1., 1., 1.]`` was
drawn over PowBackward0), it takes the first of a few others along its edge, on either
side, that meets no earlier label and no box (``candidates``); where every one of those
meets a label or a box, the first free of both a step or a few (``FREE_STEPS``) across the
row; else the first of them that meets no label; where every one meets a label (a crowd
of edges in one gap), it moves on across the row till it meets none (over a box then, if
it must: a crowd or a dense graph's gaps). So a label's place follows only from the
earlier labels shown and their texts, never from the order they were shown in: the
window after a step, a jump, the PNG and the SVG of that step draw the same places.

``LabelPlaces`` keeps them as the labels change (the window's steps): a change moves only
the later labels whose search looked where a label appeared, went or moved.
"""

from __future__ import annotations

import heapq
import math
from collections import Counter

from gradstep.drawing.box_index import BoxIndex
from gradstep.drawing.edge_geometry import edge_label_box, label_box_at, route_middle

CELL = 64.0  # the side of the grid's cells a label is found in (a label spans a few)
GAP = 1.0  # two labels closer than this meet (their borders would touch)
TOUCH = 1.0  # a label's own place into a node's box by less than this: no meeting
FRACTIONS = (0.5, 0.3, 0.7, 0.15, 0.85)  # the other places along an edge, in turn
LEAN = 0.2  # an edge of a fan running this much sideways per step down: its label outside
FREE_STEPS = 3  # across the row this many steps at most for a place off the node boxes
FAR_STEPS = 100_000  # (a bound the search across the row never reaches: see _far)


def candidates(route: list, text: str, side: int = 0) -> list[tuple]:
    """Return ``list(each_candidate(route, text, side))``."""
    return list(each_candidate(route, text, side))


def each_candidate(route: list, text: str, side: int = 0, middle: tuple | None = None):
    """Yield the places a label may take, in the order they are tried: its own
    (``edge_label_box(route, text, side)``: ``side`` as there, or ``fan_side``'s), then at each of
    ``FRACTIONS`` of the edge's length its side and the other (left and right of an edge
    that runs up or down, above and below one that runs sideways). ``middle``: the route's
    ``route_middle``, where known."""
    middle, (dx, dy) = middle or route_middle(route)
    sideways = abs(dx) > abs(dy)
    first = side or (-1 if sideways else 1)
    own = label_box_at(middle, (dx, dy), text, first)
    yield own  # (most labels take it: the others are made only when it is taken)
    places = [own]
    for fraction in FRACTIONS:
        part = _part(route, fraction)
        for way in (first, -first):
            box = edge_label_box(part, text, way)
            if box not in places:
                places.append(box)
                yield box


def fan_side(direction: tuple, fans_out: bool, fans_in: bool) -> int:
    """Return the side (``edge_label_box``'s) outside the fan an edge running in
    ``direction`` belongs to, 0 for the usual one: a slanted edge of a fan-out (its source
    sends to several) leans away from the others, so outside is the way it leans (left of
    one running down to the left); an edge of a fan-in (its target gets several) leans
    towards them, so outside is the other way (right of one running down to the left,
    where a fan-out's side would put its label between the two lines). A steep or
    sideways edge, or one of both or of neither, keeps the usual side."""
    if fans_out == fans_in or not slanted(direction):
        return 0
    lean = 1 if direction[0] > 0 else -1
    return lean if fans_out else -lean


def slanted(direction: tuple) -> bool:
    """Return True where an edge running in ``direction`` runs up or down, but more than
    ``LEAN`` sideways a step."""
    dx, dy = direction
    return LEAN * abs(dy) < abs(dx) <= abs(dy)


def _part(route: list, fraction: float) -> list:
    """Return a two-point route whose middle is ``fraction`` of the way along ``route``,
    running as the route runs there (``edge_label_box`` places beside a route's middle)."""
    lengths = [math.dist(a, b) for a, b in zip(route, route[1:])]
    left = sum(lengths) * fraction
    for (a, b), length in zip(zip(route, route[1:]), lengths):
        if left <= length and length > 0:
            t = left / length
            x, y = a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t
            dx, dy = (b[0] - a[0]) / 2, (b[1] - a[1]) / 2
            return [(x - dx, y - dy), (x + dx, y + dy)]
        left -= length
    return route


def _meet(a: tuple, b: tuple) -> bool:
    """Return True where boxes ``(x, y, w, h)`` ``a`` and ``b`` are closer than ``GAP``."""
    return (a[0] < b[0] + b[2] + GAP and b[0] < a[0] + a[2] + GAP
            and a[1] < b[1] + b[3] + GAP and b[1] < a[1] + a[3] + GAP)


def _cells(box: tuple) -> list[tuple[int, int]]:
    """Return the grid cells ``box`` (widened by ``GAP``) lies in."""
    x, y, w, h = box
    x0, y0 = int((x - GAP) // CELL), int((y - GAP) // CELL)
    x1, y1 = int((x + w + GAP) // CELL), int((y + h + GAP) // CELL)
    if y0 == y1:  # (most: a label is lower than a cell)
        if x1 == x0 + 1:  # (and narrower)
            return [(x0, y0), (x1, y0)]
        return [(i, y0) for i in range(x0, x1 + 1)]
    return [(i, j) for i in range(x0, x1 + 1) for j in range(y0, y1 + 1)]


def _enter(grid: dict, cells: list, key) -> None:
    """Put ``key`` in each of ``cells`` of ``grid``."""
    for cell in cells:
        if cell in grid:
            grid[cell].add(key)
        else:
            grid[cell] = {key}


def _union(a: tuple | None, b: tuple) -> tuple:
    """Return the box around boxes ``a`` (None: nothing) and ``b``."""
    if a is None:
        return b
    x0, y0 = min(a[0], b[0]), min(a[1], b[1])
    x1, y1 = max(a[0] + a[2], b[0] + b[2]), max(a[1] + a[3], b[1] + b[3])
    return (x0, y0, x1 - x0, y1 - y0)


class LabelPlaces:
    """The places of the labels shown on a layout's edges, kept as labels come and go.

    ``boxes`` maps each edge shown with a label to its ``(x, y, width, height)``; an edge
    without a route gets none. ``set_texts`` changes labels and returns the places that
    changed, for repainting.
    """

    def __init__(self, layout, box_index: BoxIndex | None = None):
        self.routes = layout.routes
        self.sides = layout.label_sides
        self.texts: dict = {}
        self.boxes: dict = {}
        self._layout = layout
        self._box_index = box_index  # made when a label is first placed
        self._own: dict = {}  # key -> (text, its own place, whether that meets a node's box)
        # where a label's search read more than its box (it left its own place): that region
        self._looked: dict = {}
        self._cells: dict = {}  # key -> (its box's cells, its looked region's cells or ())
        self._placed: dict = {}  # cell -> keys whose box lies in it
        self._readers: dict = {}  # cell -> keys of _looked whose region lies in it
        self._edges: dict = {}  # key -> its route's middle, direction there, label's side
        self._fans: tuple | None = None  # (edges out of each node, edges into it): fan_side
        self._ranks: dict = {}  # key -> rank(key)

    def rank(self, key) -> tuple:
        """Return the place of edge ``key`` in the order labels are placed in: by the middle
        of its route, top to bottom, then left to right (then by the key's words), found
        when first asked (a 100,000-edge graph's first step orders no other edge)."""
        found = self._ranks.get(key)
        if found is None:
            (x, y), _, _ = self._edge(key)
            found = self._ranks[key] = (y, x, str(key))
        return found

    def _edge(self, key) -> tuple:
        """Return ``route_middle`` of edge ``key``'s route and the side its label goes on
        (``edge_label_box``'s, never 0): the layout's (parallel edges), else outside its
        fan (``fan_side``; the edges counted when a slanted one first asks), else the
        usual one. Worked out once."""
        found = self._edges.get(key)
        if found is not None:
            return found
        middle, direction = route_middle(self.routes[key])
        side = self.sides.get(key, 0)
        if not side and slanted(direction):
            if self._fans is None:
                routes = self.routes
                self._fans = (Counter(k[0] for k in routes), Counter(k[1] for k in routes))
            outs, ins = self._fans
            side = fan_side(direction, outs[key[0]] > 1, ins[key[1]] > 1)
        side = side or (-1 if abs(direction[0]) > abs(direction[1]) else 1)
        found = self._edges[key] = (middle, direction, side)
        return found

    def set_texts(self, texts: dict) -> dict:
        """Show ``{key: text}`` on the edges (an empty text takes a label away); return
        ``{key: (old box or None, new box or None)}`` of every label that appeared, went,
        moved or changed its text."""
        changed: dict = {}
        for key, text in texts.items():
            text = str(text) if text else ""
            if self.texts.get(key, "") == text or not self.routes.get(key):
                continue
            if text:
                self.texts[key] = text
            else:
                del self.texts[key]
            changed[key] = (self.boxes.get(key), None)
        if 4 * len(changed) > len(self.boxes):  # a jump: all placed again, in order
            return self._place_all(changed)
        if len(changed) > 64:  # (their own places asked about the boxes at once)
            self._own_places([key for key in changed if key in self.texts])
        queue = [(self.rank(key), key) for key in changed]
        heapq.heapify(queue)
        queued = set(changed)
        while queue:
            rank, key = heapq.heappop(queue)
            queued.discard(key)
            old = self.boxes.get(key)
            self._forget(key)
            new = self._place(key, rank) if key in self.texts else None
            if key in changed or old != new:
                changed[key] = (changed.get(key, (old,))[0], new)
            if old == new:
                continue
            for box in (old, new):  # the later labels whose search read here: again
                for other in self._readers_of(box):
                    if other not in queued and self.rank(other) > rank:
                        heapq.heappush(queue, (self.rank(other), other))
                        queued.add(other)
        return changed

    def _place_all(self, changed: dict) -> dict:
        """Place every label shown again, in order (what ``set_texts`` gives, for a change
        of many labels); return ``set_texts``'s answer, ``changed`` its labels' old boxes."""
        before = self.boxes
        self.boxes, self._looked, self._cells, self._placed, self._readers = {}, {}, {}, {}, {}
        rank = self.rank
        self._own_places(self.texts)
        for key in sorted(self.texts, key=rank):
            self._place(key, rank(key))
        boxes = self.boxes
        for key, old in before.items():
            new = boxes.get(key)
            if new != old:
                changed[key] = (old, new)
        for key, (old, _) in changed.items():
            changed[key] = (old, boxes.get(key))
        return changed

    def _readers_of(self, box: tuple | None) -> set:
        """Return the keys whose looked region meets ``box``: those at their own place
        (their region is their box) and those that looked further."""
        found: set = set()
        if box is None:
            return found
        for cell in _cells(box):
            for grid, regions in ((self._placed, self.boxes), (self._readers, self._looked)):
                for key in grid.get(cell, ()):
                    if key not in found and _meet(regions[key], box):
                        found.add(key)
        return found

    def _forget(self, key) -> None:
        """Take ``key``'s box and looked region out of the grid."""
        if self.boxes.pop(key, None) is None:
            return
        placed, looked = self._cells.pop(key)
        for cell in placed:
            self._placed[cell].discard(key)
        if looked:
            del self._looked[key]
            for cell in looked:
                self._readers[cell].discard(key)

    def _place(self, key, rank: tuple) -> tuple:
        """Find ``key``'s box among the earlier labels, keep it and what was read; return it."""
        text = self.texts[key]
        found = self._own.get(key)
        if found is None or found[0] != text:
            found = self._own_places([key])[key]
        _, own, over_box = found
        cells = _cells(own)
        if not over_box and not self._meets_label(own, rank, cells):
            box = looked = own  # (most labels)
        else:
            middle, direction, side = self._edge(key)
            places = each_candidate(self.routes[key], text, side, (middle, direction))
            next(places)  # (own)
            box, looked = self._search(key, rank, own, places)
            cells = _cells(box)
        self.boxes[key] = box
        _enter(self._placed, cells, key)
        read = ()
        if looked is not box:  # the region read beyond its box: kept apart
            self._looked[key] = looked
            read = _cells(looked)
            _enter(self._readers, read, key)
        self._cells[key] = (cells, read)
        return box

    def _search(self, key, rank: tuple, own: tuple, places) -> tuple:
        """Return the box of a label whose own place is taken (or over a node's box), and
        the region its search read: the first other place free of labels and boxes, else
        one across the row free of both (``_far``, a few steps at most), else the first
        place free of labels, else one across the row free of labels."""
        looked, box = own, None
        if not self._meets_label(own, rank):
            box = own  # free of labels, over a box: if none is free of both
        for place in places:
            looked = _union(looked, place)
            if not self._meets_label(place, rank):
                if not self._meets_box(place):
                    return place, looked
                if box is None:
                    box = place
        return self._far(own, self.routes[key], rank, looked, box)

    def _far(self, own: tuple, route: list, rank: tuple, looked: tuple,
             over_box: tuple | None) -> tuple:
        """Return the first box meeting no earlier label and no node's box, a label's height
        apart at a time across the row from ``own`` (to the right of an edge that runs up or
        down, then to its left, and so on; below and above one that runs sideways), within
        ``FREE_STEPS`` steps; past them, ``over_box`` (a place free of labels only) or the
        first free of labels met; and the region read."""
        (_, _), (dx, dy) = route_middle(route)
        across = 1 if abs(dx) > abs(dy) else 0
        step = own[3] + 2 * GAP if across else own[2] / 2 + 2 * GAP
        for k in range(1, FAR_STEPS):
            if over_box is not None and k > FREE_STEPS:
                return over_box, looked
            for way in (1, -1):
                place = list(own)
                place[across] += way * k * step
                place = tuple(place)
                looked = _union(looked, place)
                if not self._meets_label(place, rank):
                    if k > FREE_STEPS or not self._meets_box(place):
                        return place, looked
                    if over_box is None:
                        over_box = place
        raise AssertionError("no place for an edge label")  # (finitely many labels)

    def _meets_label(self, box: tuple, rank: tuple, cells: list | None = None) -> bool:
        """Return True where ``box`` (in grid ``cells``, if known) meets the box of a label
        placed before rank ``rank``."""
        placed, boxes = self._placed, self.boxes
        for cell in cells or _cells(box):
            for other in placed.get(cell, ()):
                if _meet(boxes[other], box) and self.rank(other) < rank:
                    return True
        return False

    def _own_places(self, keys) -> dict:
        """Find the own places of the labels of ``keys`` (``each_candidate``'s first) and
        whether each meets a node's box (by more than ``TOUCH`` each way: a label touching
        its edge's end is no meeting), all boxes asked at once; keep and return them
        (``{key: (text, place, meets a box)}``)."""
        if self._box_index is None:
            self._box_index = layout_box_index(self._layout)
        texts, own, places = self.texts, self._own, []
        for key in keys:
            middle, direction, side = self._edge(key)
            places.append(label_box_at(middle, direction, texts[key], side))
        index = self._box_index
        if len(places) < 16:  # (a step's few: the same answer, without the bulk's set-up)
            hits = [index.meets(x + TOUCH, y + TOUCH, x + w - TOUCH, y + h - TOUCH)
                    for x, y, w, h in places]
        else:
            import numpy as np

            rects = np.array(places, float).reshape(-1, 4)
            rects[:, 2:] += rects[:, :2]  # (x, y, w, h) -> corners, drawn in by TOUCH
            rects[:, :2] += TOUCH
            rects[:, 2:] -= TOUCH
            hits = index.meet_any(rects).tolist()
        for key, place, hit in zip(keys, places, hits):
            own[key] = (texts[key], place, hit)
        return own

    def _meets_box(self, box: tuple) -> bool:
        """Return True where ``box`` meets a node's box."""
        if self._box_index is None:
            self._box_index = layout_box_index(self._layout)
        x, y, w, h = box
        return self._box_index.meets(x, y, x + w, y + h)


def layout_box_index(layout) -> BoxIndex:
    """Return the ``BoxIndex`` of a layout's node boxes."""
    import numpy as np

    nodes = list(layout.positions)
    centres = np.array([layout.positions[n] for n in nodes], float).reshape(-1, 2)
    half = np.array([layout.sizes[n] for n in nodes], float).reshape(-1, 2) / 2
    return BoxIndex(centres - half, centres + half)


def place_labels(layout, texts: dict) -> dict:
    """Return ``{key: (x, y, width, height)}``: where each edge label of ``texts`` goes
    (``LabelPlaces``); an edge without a route, or with an empty text, gets none."""
    places = LabelPlaces(layout)
    places.set_texts(texts)
    return places.boxes
