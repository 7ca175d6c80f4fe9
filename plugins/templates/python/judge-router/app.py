"""{{name}}: a railyard judge router, written in Python.

Asks for a judge when an earlier plugin was fairly sure it found something.
Routers run after the stage's guardrails and detectors and see their
findings; the host queues the judge requests they return.

Config (`[plugins.{{name}}.config]` in a policy, `[config]` in the manifest):
    judge = "default"    # the judge to ask (a name the host's judges table knows)
    rubric = "default"   # the rubric it judges by

If any finding has a score of 0.5 or more, returns one request: that judge
and rubric, in the background (the caller is not kept waiting), priority 0,
every such payload (sample rate 1.0), with the reason
"finding <category> scored <score>" for the first such finding (the score
printed like C's "%g": 0.9, 1). Otherwise returns no request.
"""

import wit_world
from wit_world.imports import host, types

NAME = "{{name}}"
VERSION = "0.1.0"
THRESHOLD = 0.5


class WitWorld(wit_world.WitWorld):
    def info(self):
        return types.PluginInfo(NAME, VERSION, [types.Stage.REQUEST, types.Stage.RESPONSE])

    def route(self, payload, findings):
        config = dict(host.config())  # a key given twice: the last one wins
        for finding in findings:
            if finding.score >= THRESHOLD:
                reason = f"finding {finding.category} scored {finding.score:g}"
                request = types.JudgeRequest(
                    config.get("judge", "default"),
                    config.get("rubric", "default"),
                    types.JudgeMode.BACKGROUND,
                    0,
                    1.0,
                    reason,
                )
                return [request]
        return []
