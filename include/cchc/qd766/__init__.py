"""Decision 766/QĐ-TTg scoring: the rules of the seed ``dbt_project/seeds/qd766_components.csv``
applied in Python (the same rules the ``qd766_points`` dbt macro applies in the warehouse), and
the recomputation of the portal's published scores (``cchc qd766 recompute``)."""

from cchc.qd766.rules import Component, Rules, group_points, load_rules, points

__all__ = ["Component", "Rules", "group_points", "load_rules", "points"]
