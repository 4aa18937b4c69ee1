"""The team inbox: chats, messages, receipts, assignment, AI suggestions, notifications and members.

Each change is made and its event emitted through `waxos.events.emit` in one transaction; the relay
publishes after commit. Routes live beside the services (`routes/`), one router per resource.
"""
