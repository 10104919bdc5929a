# -*- coding: utf-8 -*-
# Copyright: vigil contributors
# Apache License 2.0 (see LICENSE)
"""Glance collector: the images servers boot from, for their required traits
(``trait:X=required``) and CPU policy (``hw_cpu_policy``) properties.

Only images in use are read, ``CHUNK`` ids per request with Glance's ``id=in:`` filter:
ceil(distinct images / CHUNK) requests, usually one (see `images` for the fallback).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.vigil.openstack.plugins.module_utils.collect import endpoint, rest

SERVICE = "image"
CHUNK = 100


def images(ad, ids):
    """``{image_id: image}``; images that are gone (deleted while in use) are simply absent.

    Admins see every image in a plain listing; ``id=in:`` (Glance API 2.5) asks for just
    the ones in use. A Glance that ignores the operator answers with nothing, and then one
    full listing is read instead.
    """
    ids = sorted(set(i for i in ids if i))
    path = endpoint.versioned(ad, "/images", "v2")
    out = {}
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        params = {"id": "in:" + ",".join(chunk), "limit": len(chunk)}
        found = rest.get_json(ad, path, SERVICE, params=params).get("images") or []
        if not found:
            wanted = set(ids)
            listing = rest.paginate(ad, path, SERVICE, "images", limit=1000, links_key="next")
            return dict((i.get("id"), i) for i in listing if i.get("id") in wanted)
        for image in found:
            out[image.get("id")] = image
    return out


def collect(conn, image_ids):
    ad = endpoint.adapter(conn, SERVICE)
    return {"images": images(ad, image_ids)}
