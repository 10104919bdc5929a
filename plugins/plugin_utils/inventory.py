# -*- coding: utf-8 -*-
# Copyright: vigil contributors
# Apache License 2.0 (see LICENSE)
"""What vigil's inventory plugins share: config files by name, the cache, then populate."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.plugins.inventory import BaseInventoryPlugin, Cacheable, Constructable


class VigilInventory(BaseInventoryPlugin, Constructable, Cacheable):
    """Subclasses set NAME and FILE_NAMES and implement ``_collect()`` (the API reads, whose
    JSON-able result is cached), ``_populate(data)`` (hosts, through ``_add_host``) and
    ``_default_groups(hostvars)`` (the groups of ``default_groups: true``)."""

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

    def _default_groups(self, hostvars):
        raise NotImplementedError

    def _add_host(self, host, hostvars):
        """Add ``host`` with its variables, its default groups (when ``default_groups``) and
        the groups and variables of the ``compose``, ``groups`` and ``keyed_groups`` options."""
        strict = self.get_option("strict")
        self.inventory.add_host(host)
        for var, value in hostvars.items():
            self.inventory.set_variable(host, var, value)
        if self.get_option("default_groups"):
            for group in self._default_groups(hostvars):
                group = self.inventory.add_group(self._sanitize_group_name(group))
                self.inventory.add_child(group, host)
        self._set_composite_vars(self.get_option("compose"), hostvars, host, strict=strict)
        self._add_host_to_composed_groups(self.get_option("groups"), hostvars, host, strict=strict)
        self._add_host_to_keyed_groups(self.get_option("keyed_groups"), hostvars, host, strict=strict)
