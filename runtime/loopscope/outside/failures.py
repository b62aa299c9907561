"""How getting into a program fails: a reason from protocol.json's InjectionFailure, which the
adapter acts on (a read-only view, a hint), and a sentence that tells the user what to do next."""


class InjectionFailed(Exception):
    def __init__(self, reason, message):
        Exception.__init__(self, message)
        self.reason = reason
        self.message = message
