"""Text A's computation graph J = 3(a + b*c): forward left to right, derivatives right to left.

Run: python examples/computation_graph.py
"""

import tidu

a = tidu.tensor(7.0, requires_grad=True, name="a")
b = tidu.tensor(4.0, requires_grad=True, name="b")
c = tidu.tensor(2.0, requires_grad=True, name="c")

u = b * c  # u = 8
v = a + u  # v = 15
J = 3 * v  # J = 45
J.backward()

print(f"u = {u.item():g}, v = {v.item():g}, J = {J.item():g}")
print(f"dJ/da = {a.grad.item():g}, dJ/db = {b.grad.item():g}, dJ/dc = {c.grad.item():g}")
