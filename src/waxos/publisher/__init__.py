"""The publisher: `PusherService` on the official SDK, its checks, typed results and HTTP transport."""
