"""Who may do what. Every permission decision in gongkai is made here.

``gongkai.policy.rules`` holds the one role table (``RULES``) and the functions that read it:
``can``/``require`` for views, ``grants_for``, ``visible_scope_paths`` for querysets, and
``holders`` (who may do an action on a unit) for addressing notifications. Templates use the
``can`` tag or ``may`` context. Object-level rules (may this user second this motion?) live
next to their app in ``gongkai/<app>/permissions.py``, built on these functions. Roles are
held on a unit and cover that unit's subtree.
"""
