"""The playground: TensorFlow Playground in the browser, trained by neuralab's own engine.

``neuralab playground`` serves it. The pieces, one idea per module: ``state`` (the one
declared state table and the spec it becomes), ``messages`` (the WebSocket protocol),
``session`` (one tab's data, network and training), ``pictures`` (what a frame draws),
``health`` (the doctor's live gradient health), ``own_data`` (clicked and uploaded points),
``connection`` (one tab's socket), ``server`` (the ASGI app) and ``static/`` (the page).
"""
