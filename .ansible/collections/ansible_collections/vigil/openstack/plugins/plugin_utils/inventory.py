# -*- coding: utf-8 -*-
# Copyright: vigil contributors
# Apache License 2.0 (see LICENSE)
"""What vigil's inventory plugins share: config files by name, the cache, then populate."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.plugins.inventory import BaseInventoryPlugin, Cacheable, Constructable


class VigilInventory(BaseInventoryPlugin, Constructable, Cacheable):
    """Subclasses set NAME and FILE_NAMES and implement ``_collect()`` (the API reads, whose
    JSON-able result is cached) and ``_populate(data)`` (hosts, groups, vars)."""

    FILE_NAMES = ()

    def verify_file(self, path):
        return super(VigilInventory, self).verify_file(path) and path.endswith(self.FILE_NAMES)

    def parse(self, inventory, loader, path, cache=True):
        super(VigilInventory, self).parse(inventory, loader, path, cache)
        self._read_config_data(path)
        cache_key = self.get_cache_key(path)
        use_cache = self.get_option("cache")
        data = None
        if use_cache and cache:
            try:
                data = self._cache[cache_key]
            except KeyError:
                data = None
        if data is None:
            data = self._collect()
            if use_cache:
                self._cache[cache_key] = data
        self._populate(data)

    def _collect(self):
        raise NotImplementedError

    def _populate(self, data):
        raise NotImplementedError
