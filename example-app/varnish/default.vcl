# example-app/varnish/default.vcl: Varnish 7 in front of a vite-isr server started with
# createISRHandler({ cdnTagHeader: true, onRevalidate: createVarnishPurger({ url }) }).
vcl 4.1;

import std;

backend default {
    .host = "127.0.0.1";
    .port = "3000";
}

# Who may send PURGE and BAN: the app servers. Add their addresses when they run elsewhere.
acl purgers {
    "127.0.0.1";
    "::1";
}

sub vcl_recv {
    if (req.method == "PURGE") {
        if (client.ip !~ purgers) {
            return (synth(405, "PURGE not allowed from this address"));
        }
        # Every variant (gzip, br, identity) of this URL on this Host.
        return (purge);
    }
    if (req.method == "BAN") {
        if (client.ip !~ purgers) {
            return (synth(405, "BAN not allowed from this address"));
        }
        if (!req.http.X-Ban-Tag) {
            return (synth(400, "BAN needs an X-Ban-Tag header (one tag)"));
        }
        # The tag is matched literally (regex metacharacters escaped, a space as \x20 so the
        # ban expression stays one word) and only as a whole item of the comma-separated
        # Cache-Tag list: a ban on `post` leaves pages tagged `posts` alone. Only obj.*
        # is used, so the ban lurker can drop banned objects in the background.
        if (std.ban("obj.http.Cache-Tag ~ (^|,)" + regsuball(regsuball(req.http.X-Ban-Tag, {"([][\\.^$|?*+(){}])"}, {"\\\1"}), " ", {"\\x20"}) + "(,|$)")) {
            return (synth(200, "Banned"));
        }
        return (synth(400, std.ban_error()));
    }
}

sub vcl_backend_response {
    # Varnish takes the TTL from s-maxage and the grace from stale-while-revalidate. A page
    # vite-isr answered STALE is regenerating: keep it for a second only, then serve it from
    # grace while fetching the new one in the background.
    if (beresp.http.X-ISR-Cache == "STALE" && beresp.ttl > 1s) {
        set beresp.ttl = 1s;
    }
}

sub vcl_deliver {
    # The tags are for Varnish, not for browsers.
    unset resp.http.Cache-Tag;
    if (obj.hits > 0) {
        set resp.http.X-Cache = "HIT";
    } else {
        set resp.http.X-Cache = "MISS";
    }
}
